"""Read float32 tensors from a TensorFlow checkpoint bundle (``.index`` + ``.data-*``) with numpy alone.

The ``.index`` file is a LevelDB-style table (uncompressed blocks) mapping each variable name to a
``BundleEntryProto`` (dtype, shape, shard, offset, size); the bytes live at that offset in
``.data-00000-of-00001``. Only what musicnn's checkpoints use is supported: one shard, no
compression, float32 tensors. Written by hand because the alternative is TensorFlow itself.

    tensors = read_checkpoint("musicnn/MTT_musicnn/")     # {name: np.ndarray}
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_MAGIC = 0xDB4775248B80FB57
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 10: np.bool_}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        out |= (b & 0x7F) << shift
        if b < 0x80:
            return out, pos
        shift += 7


def _block_entries(data: bytes, offset: int, size: int) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs of one table block; keys are prefix-compressed against the previous one."""
    block = data[offset:offset + size]
    if data[offset + size] != 0:
        raise ValueError("compressed checkpoint blocks are not supported")
    n_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 - 4 * n_restarts
    pos, key, out = 0, b"", []
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        vlen, pos = _varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        out.append((key, block[pos:pos + vlen]))
        pos += vlen
    return out


def _fields(msg: bytes) -> list[tuple[int, int | bytes]]:
    """Decode a protobuf message into (field number, value) pairs (varint, fixed and length-delimited)."""
    pos, out = 0, []
    while pos < len(msg):
        tag, pos = _varint(msg, pos)
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            val, pos = _varint(msg, pos)
        elif wire == 1:
            val, pos = struct.unpack_from("<Q", msg, pos)[0], pos + 8
        elif wire == 2:
            n, pos = _varint(msg, pos)
            val, pos = msg[pos:pos + n], pos + n
        elif wire == 5:
            val, pos = struct.unpack_from("<I", msg, pos)[0], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((num, val))
    return out


def _entry(value: bytes) -> dict:
    """BundleEntryProto → dtype, shape, shard_id, offset, size."""
    e = {"dtype": 1, "shape": [], "shard_id": 0, "offset": 0, "size": 0}
    for num, val in _fields(value):
        if num == 1:
            e["dtype"] = val
        elif num == 2:  # TensorShapeProto: repeated dim {size}
            e["shape"] = [dict(_fields(d)).get(1, 0) for n, d in _fields(val) if n == 2]
        elif num in (3, 4, 5):
            e[{3: "shard_id", 4: "offset", 5: "size"}[num]] = val
        elif num == 7:
            raise ValueError("sliced (partitioned) variables are not supported")
    return e


def read_index(index_path: str | Path) -> dict[str, dict]:
    """Variable name → entry (dtype, shape, offset, size) from a bundle's ``.index`` file."""
    data = Path(index_path).read_bytes()
    footer = data[-48:]
    if struct.unpack_from("<Q", footer, 40)[0] != _MAGIC:
        raise ValueError(f"{index_path} is not a TensorFlow checkpoint index")
    pos = 0
    _, pos = _varint(footer, pos)  # metaindex handle (unused)
    _, pos = _varint(footer, pos)
    idx_off, pos = _varint(footer, pos)
    idx_size, pos = _varint(footer, pos)
    entries = {}
    for _, handle in _block_entries(data, idx_off, idx_size):
        off, p = _varint(handle, 0)
        size, _ = _varint(handle, p)
        for key, value in _block_entries(data, off, size):
            if key:  # the empty key holds the bundle header
                entries[key.decode()] = _entry(value)
    return entries


def read_checkpoint(folder: str | Path, prefix: str = "") -> dict[str, np.ndarray]:
    """Every tensor of the bundle ``folder/prefix.index`` as a numpy array (copied out of the data file)."""
    folder = Path(folder)
    index = read_index(folder / f"{prefix}.index")
    shards = sorted(folder.glob(f"{prefix}.data-*"))
    if len(shards) != 1:
        raise ValueError(f"expected one data shard in {folder}, found {len(shards)}")
    raw = shards[0].read_bytes()
    out = {}
    for name, e in index.items():
        dtype = np.dtype(_DTYPES.get(e["dtype"], np.uint8))
        if e["dtype"] not in _DTYPES:
            continue  # strings and other types: not weights
        arr = np.frombuffer(raw, dtype=dtype, count=e["size"] // dtype.itemsize, offset=e["offset"])
        out[name] = arr.reshape(e["shape"]).copy()
    return out
