"""Records as a principal may see and change them: the store's operations behind DESIGN §5's rules."""

from zhulian.records.service import RecordService

__all__ = ["RecordService"]
