"""CSV import: turn rows of a helpdesk or call-centre export into contract events.

A declarative YAML mapping (see docs/import-mappings.md) names the columns that give the
ticket id, the event times and the fields, and selects which rows give which events.

Modules, in the order data flows through them:
 values      cell text to timestamps, durations, numbers and booleans
 templates   `{column}` templates of ticket and event ids
 base, sources, conditions, mapping
             the pydantic models of the mapping file, and `load_mapping`
 rows        one row to events, all or nothing
 convert     a whole file: `convert_rows`, `import_csv` and the import report
"""

from streamproc.importer.convert import ImportReport, convert_rows, import_csv, open_csv
from streamproc.importer.mapping import EventTemplate, Mapping, load_mapping, parse_mapping
from streamproc.importer.rows import FilteredRow, ImportedEvent, ImportItem

__all__ = [
    "EventTemplate",
    "FilteredRow",
    "ImportItem",
    "ImportReport",
    "ImportedEvent",
    "Mapping",
    "convert_rows",
    "import_csv",
    "load_mapping",
    "open_csv",
    "parse_mapping",
]
