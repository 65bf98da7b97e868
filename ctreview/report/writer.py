"""``write_report``: a volume's scoring run and review as PDF, CSV and/or JSON.

:func:`iter_report` is the generator (it yields :class:`~ctreview.progress.Progress`
per flagged slice's picture and per file); :func:`write_report` runs it.
"""
from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ctreview.errors import Cancelled, CtreviewError
from ctreview.progress import Progress, StopFlag, drain
from ctreview.report._output import atomic_output
from ctreview.report.data import ReportData, clean_path, collect
from ctreview.report.defects import defect_planes, defects_csv_path, flagged_defects, write_defects_csv
from ctreview.report.images import slice_png, triptych_png
from ctreview.report.pdf import write_pdf
from ctreview.report.tables import write_csv, write_json

if TYPE_CHECKING:
    from ctreview.io import Volume, VolumeLike
    from ctreview.review import Workspace


def write_report(workspace: Workspace | str | Path, volume_id: int, run_id: int | None = None, *,
                 pdf: str | Path | None = None, csv: str | Path | None = None,
                 json: str | Path | None = None, volume: VolumeLike | None = None) -> ReportData:
    """Write the report (see :func:`iter_report`) and return what it shows."""
    return drain(iter_report(workspace, volume_id, run_id, pdf=pdf, csv=csv, json=json, volume=volume))


def iter_report(workspace: Workspace | str | Path, volume_id: int, run_id: int | None = None, *,
                pdf: str | Path | None = None, csv: str | Path | None = None,
                json: str | Path | None = None, volume: VolumeLike | None = None,
                should_stop: StopFlag | None = None) -> Generator[Progress, None, ReportData]:
    """Write the report of one volume's scoring run and review.

    Parameters
    ----------
    workspace : Workspace or str or Path
        An open :class:`~ctreview.review.Workspace`, or the path of one.
    volume_id : int
        The volume, as the workspace knows it.
    run_id : int, optional
        The scoring run; default: the volume's latest.
    pdf, csv, json : path, optional
        Files to write; each is written whole or not at all.
    volume : Volume, optional
        The open volume, for the slice pictures. Without it the file is
        reopened from its recorded path; if it is gone or changed, the report
        says so and has no pictures.
    should_stop : callable() -> bool, optional
        Polled between steps; when it returns True, :class:`Cancelled` is raised
        and no file is written.

    Yields
    ------
    Progress
        Stage ``"report"``: pictures of flagged slices, then each file.

    Returns
    -------
    ReportData
        What the report shows (also for the caller's status line).
    """
    if pdf is None and csv is None and json is None:
        raise CtreviewError(None, "no report file asked for (give a PDF, CSV or JSON path)")
    if isinstance(workspace, (str, Path)):  # a path: opened here, closed when done
        from ctreview.review import open_workspace
        ws, owned = open_workspace(workspace), True
    else:
        ws, owned = workspace, False
    try:
        data = collect(ws, volume_id, run_id)
        yield from _write(ws, data, pdf, csv, json, volume, should_stop or (lambda: False))
    finally:
        if owned:
            ws.close()
    return data


def _write(workspace: Workspace, data: ReportData, pdf: Any, csv: Any, json: Any, volume: Any,
           should_stop: StopFlag) -> Generator[Progress, None, None]:
    total = (len(data.flagged) + len(flagged_defects(data.defects)) if pdf is not None else 0) + 3
    done = 0

    def step(message: str) -> Progress:
        nonlocal done
        if should_stop():
            raise Cancelled()
        done += 1
        return Progress("report", done, total, message)

    images: dict[int, bytes | None] = {}
    planes: dict[int, dict[str, bytes]] = {}
    if pdf is not None:
        images, planes = yield from _pictures(workspace, data, volume, step)
    if csv is not None:
        write_csv(data, csv)
        if data.defects is not None:
            write_defects_csv(data.defects, defects_csv_path(csv))
    yield step("CSV written")
    if json is not None:
        write_json(data, json)
    yield step("JSON written")
    if pdf is not None:
        with atomic_output(pdf) as tmp:
            write_pdf(data, tmp, images, planes)
    yield step("PDF written")


def _pictures(workspace: Workspace, data: ReportData, volume: VolumeLike | None, step: Callable[[str], Progress]
              ) -> Generator[Progress, None, tuple[dict[int, bytes | None], dict[int, dict[str, bytes]]]]:
    source, opened = _slice_source(data, volume)
    images: dict[int, bytes | None] = {}
    planes: dict[int, dict[str, bytes]] = {}
    try:
        for row in data.flagged:
            yield step(f"slice {row['slice']}")
            index = row["slice"]
            if source is None:
                images[index] = None
                continue
            try:
                image = source.slice(index)
            except CtreviewError as exc:
                data.notes.append(f"Slice {index} cannot be read ({exc.message}): no picture.")
                images[index] = None
                continue
            heatmap = workspace.heatmap(data.run["id"], index)
            expected = workspace.expected(data.run["id"], index)
            images[index] = (slice_png(image, heatmap, row["boxes"], row["tile_box"]) if expected is None else
                             triptych_png(image, expected, heatmap, row["boxes"], row["tile_box"]))
        for defect in flagged_defects(data.defects):
            yield step(f"defect {defect['id']}")
            if source is not None:
                try:
                    planes[defect["id"]] = defect_planes(source, lambda k: workspace.heatmap(data.run["id"], k),
                                                         defect, data.volume["spacing"])
                except CtreviewError as exc:
                    data.notes.append(f"Defect {defect['id']} cannot be read ({exc.message}): no pictures.")
    finally:
        if opened is not None:
            opened.close()
    return images, planes


def _slice_source(data: ReportData, volume: VolumeLike | None) -> tuple[VolumeLike | None, Volume | None]:
    """Return (volume to draw slices from or None, the volume opened here to close after); notes why not."""
    if not data.flagged and not flagged_defects(data.defects):
        return None, None
    if volume is not None:
        return volume, None
    path = data.volume["path"]
    shown = clean_path(path)
    if path is None:
        data.notes.append("The volume was not read from a file: slice pictures are left out.")
        return None, None
    from ctreview.io import open_volume, volume_fingerprint

    try:
        reopened = open_volume(path)
    except CtreviewError as exc:
        data.notes.append(f"The volume file {shown} cannot be opened ({exc.message}): "
                          "slice pictures are left out.")
        return None, None
    if volume_fingerprint(reopened) != data.volume["fingerprint"]:
        reopened.close()
        data.notes.append(f"The file {shown} no longer holds the scored volume: "
                          "slice pictures are left out.")
        return None, None
    return reopened, reopened
