"""Sample identification's pure parts (the query region, the rank of the truth) and, where libopenmpt is present,
the interactive player on a module made here."""
import struct

import numpy as np
import pytest

from core.library import identify

SR = 1000


def test_the_query_is_the_window_where_the_sound_carries_most_of_the_mix():
    rng = np.random.default_rng(0)
    other = rng.standard_normal(20 * SR) * 0.5
    stem = np.zeros(20 * SR)
    stem[2 * SR:5 * SR] = rng.standard_normal(3 * SR) * 0.2  # under the other sound
    stem[12 * SR:15 * SR] = rng.standard_normal(3 * SR) * 2.0  # on top of it
    start, share = identify.best_region(stem, stem + other, SR, seconds=3.0, hop_s=0.5)
    assert start == pytest.approx(12.0) and share > 0.8
    assert identify.best_region(np.zeros(20 * SR), other, SR) is None  # an instrument the excerpt never plays


def test_rank_of_the_truth_counts_ties_against_it():
    scores = np.array([0.2, 0.9, 0.5, 0.9])
    assert identify.rank_of(scores, 1) == 2 and identify.rank_of(scores, 2) == 3 and identify.rank_of(scores, 0) == 4


def _tiny_mod() -> bytes:
    """A 4-channel ProTracker module: two looped samples (a square and a saw), one pattern playing each in turn."""
    def sample_header(name: bytes, words: int) -> bytes:
        return name.ljust(22, b"\0") + struct.pack(">HBBHH", words, 0, 64, 0, words)

    samples = [bytes((100 if i % 32 < 16 else 156) for i in range(512)), bytes((i * 8) % 256 for i in range(512))]
    head = b"tiny".ljust(20, b"\0") + b"".join(sample_header(n, 256) for n in (b"square", b"saw"))
    head += b"".join(sample_header(b"", 0) for _ in range(29))
    head += bytes([1, 127]) + bytes([0] * 128) + b"M.K."
    pattern = bytearray(64 * 4 * 4)
    for row in range(0, 64, 8):
        sample = 1 if row < 32 else 2
        period = 428  # C-2
        pattern[row * 16:row * 16 + 4] = bytes([(sample & 0xF0) | (period >> 8), period & 0xFF,
                                                 ((sample & 0x0F) << 4), 0])
    return head + bytes(pattern) + b"".join(samples)


def test_the_player_solos_and_strikes_each_sound_of_a_module():
    from core.data import modules

    try:
        modules.libopenmpt()
    except (RuntimeError, OSError):
        pytest.skip("libopenmpt is not here (python -m core.data.modules --build extracts Debian's)")
    data = _tiny_mod()
    with identify.Player(data) as p:
        assert p.sounds == 31 and p.name(0) == "square"
        mix = p.render(4.0)
    stems = []
    for i in (0, 1):
        with identify.Player(data) as p:
            p.solo(i)
            stems.append(p.render(4.0))
    assert np.max(np.abs(stems[0] + stems[1] - mix)) < 1e-4  # the stems add up to the mix
    assert np.any(stems[0]) and np.any(stems[1])
    with identify.Player(data) as p:
        p.strike(1)
        assert np.sqrt(np.mean(p.render(0.5) ** 2)) > 1e-3  # the saw, struck alone
