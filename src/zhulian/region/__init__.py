"""The region's reference data, shipped as data files in ``data/``: its cities, their roles and circles
(``cities``), GB/T 2260 codes (``adcodes``), and the seed's centres, organisations, people, policies with targets,
news and the observed values it states (``reference_records``), each with an id that is the same on every node."""

from zhulian.region.reference import ReferenceDataError, reference_id, reference_ids, reference_records

__all__ = ["ReferenceDataError", "reference_id", "reference_ids", "reference_records"]
