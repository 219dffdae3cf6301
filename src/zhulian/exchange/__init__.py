"""Data exchange: import and export every resource type as CSV, TSV, XLSX, JSON and JSONL, with row-level
validation reports, templates and declarative mappings for foreign files (DESIGN §1, issue 3).

The CLI (``commands.py``) calls these functions now and the API will call the same ones:

* ``import_file(store, path, …) -> ImportReport`` — detect, read, map, validate, upsert; all or nothing;
* ``export_records(store, type, format, target, filter=…) -> ExportReport`` — streamed, lossless;
* ``write_template(type, format, target)`` — header, example row and (XLSX) notes;
* ``check_workbook_size(path_or_file)`` — refuses an XLSX that would unpack far beyond its size (a bomb);
* ``load_mapping(name_or_path)`` / ``builtin_mappings()`` — the declarative mappings in ``mappings/``.
"""

from zhulian.exchange.exporter import ExportReport, export_records
from zhulian.exchange.formats import check_workbook_size
from zhulian.exchange.importer import ImportReport, import_file
from zhulian.exchange.mapping import builtin_mappings, load_mapping
from zhulian.exchange.template import write_template

__all__ = ["ExportReport", "ImportReport", "builtin_mappings", "check_workbook_size", "export_records", "import_file",
           "load_mapping", "write_template"]
