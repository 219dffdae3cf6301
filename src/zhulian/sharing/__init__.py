"""Shared instruments and innovation vouchers (DESIGN §1, sharing): service profiles with fees and a calendar,
bookings that never overlap, usage and fees, the open-sharing evaluation, and vouchers a city issues to small
firms and settles with providers in any city."""

from zhulian.sharing.service import SharingService
from zhulian.sharing.vouchers import VoucherService

__all__ = ["SharingService", "VoucherService"]
