"""Which file a catalogue row may open: the one rule for the report, re-scoring and review tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from tryon.catalogue.store import Catalogue
from tryon.paths import confined_file

# Written by the catalogue itself: paths relative to the catalogue folder, under images/.
CATALOGUE_FILE_COLUMNS = ("output_image", "mask_image", "mask_overlay_image", "depth_image")
# Taken from the manifest: absolute paths that validation resolved inside the run's data root.
INPUT_FILE_COLUMNS = ("person_image", "garment_image", "ground_truth_image")


class RowFiles:
    """Resolve a row's image column to a file that is safe to open, or None.

    A row that failed validation keeps the raw manifest path for the record (it may point
    anywhere: `/etc/...`, `../..`, a symlink out); such a path is never opened. An input
    column is opened only when validation accepted the row (it has an `input_hash`) and the
    path still lies inside the data root of the run that wrote it; a catalogue column only
    inside the catalogue's images/ folder.
    """

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue
        self._data_roots = {record["run_id"]: record.get("data_root") for record in catalogue.read_runs()}

    def path(self, row: Mapping[str, Any], column: str) -> Path | None:
        raw = row.get(column)
        if column in CATALOGUE_FILE_COLUMNS:
            return confined_file(raw, self.catalogue.images_dir, base=self.catalogue.root)
        if column in INPUT_FILE_COLUMNS:
            data_root = self._data_roots.get(row.get("run_id"))
            if not data_root or not isinstance(row.get("input_hash"), str):
                return None
            return confined_file(raw, Path(data_root))
        return None
