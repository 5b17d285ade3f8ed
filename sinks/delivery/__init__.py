"""Push delivery of published snapshots to channels' SFTP and HTTP targets, with receipts.

``deliver`` pushes one channel's files to one target and records a receipt
(``receipts``); ``pending`` tells which targets are still owed the live snapshot and
``deliver_live`` sends it to them (after a run's publish, or ``prism deliver``).
"""

from sinks.delivery.deliver import channel_files, deliver, deliver_live, pending
from sinks.delivery.errors import DeliveryError
from sinks.delivery.receipts import DeliveredFile, Receipt, last_receipts, read_receipts

__all__ = [
    "DeliveredFile",
    "DeliveryError",
    "Receipt",
    "channel_files",
    "deliver",
    "deliver_live",
    "last_receipts",
    "pending",
    "read_receipts",
]
