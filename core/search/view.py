"""Pictures of a search, built on ``core.plots``: the clickable track overview and the timeline."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import plots

COLORS = {"query": "#1b7837", "found": "#5aae61", "rejected": "#d73027", "proposal": "#f59e0b"}


@dataclass
class Overview:
    """An RGB image of the track and where its time axis lies, so a click can be turned into a time."""

    image: np.ndarray  # (height, width, 3) uint8
    x0: float  # left end of the time axis, as a fraction of the image width
    x1: float
    duration: float

    def time_at(self, x_pixel: float) -> float:
        """Seconds at a horizontal pixel position (clamped to the track)."""
        frac = (x_pixel / self.image.shape[1] - self.x0) / (self.x1 - self.x0)
        return float(np.clip(frac, 0.0, 1.0) * self.duration)


def segments(session) -> list[tuple[float, float, str]]:
    """(start, end, label) for the query, the answers and the pending proposal."""
    d = session.d
    segs = [(session.t0, session.t0 + d, "query")]
    segs += [(t, t + d, "found") for t in session.positives[1:]]
    segs += [(t, t + d, "rejected") for t in session.negatives]
    if session.pending is not None and not session.ended:
        t = session.to_time(session.pending)
        segs.append((t, t + d, "proposal"))
    return segs


def overview(y, sr: int | None = None, segs=(), title: str = "Track (click to set the query start)") -> Overview:
    """The waveform (audio at ``sr``, or a ``plots.Envelope``) with coloured spans for ``segs``, as pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    env = y if isinstance(y, plots.Envelope) else plots.envelope(y, sr)
    fig = plots.waveform(env, title=title)
    ax = fig.axes[0]
    for start, end, label in segs:
        ax.axvspan(start, end, color=COLORS.get(label, "grey"), alpha=0.45 if label != "proposal" else 0.7, linewidth=0)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    box = ax.get_position()  # final position after the constrained layout ran
    return Overview(image, float(box.x0), float(box.x1), env.duration)


def timeline(session, title: str | None = None):
    """Query, found, rejected and proposed windows on the track's time axis (``plots.timeline``)."""
    found = len(session.positives) - 1
    title = title or f"{found} found, {len(session.negatives)} of {session.patience} misses"
    return plots.timeline(segments(session), session.track.duration, title=title, colors=COLORS)
