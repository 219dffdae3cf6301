"""The seed's records for ``loader.load_region``, which still reads them by this name; they come from the
packaged data files (``reference.reference_records``)."""

from zhulian.region.reference import reference_records

RECORDS = reference_records()
