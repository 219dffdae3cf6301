"""Food-safety traceability on GS1 EPCIS 2.0 (DESIGN §1, trace): validation against GS1's JSON Schema, event
hash IDs (CBV 2.0 §8.8), one canonical form for EPC URNs and GS1 Digital Links, capture and the
SimpleEventQuery per the REST binding at ``/epcis/``, and trace back and forward at ``/api/v1/trace/``."""

from zhulian.trace.service import TraceService

__all__ = ["TraceService"]
