"""Push delivery of published snapshots to channels' SFTP and HTTP targets, with receipts.

``deliver`` pushes one channel's files to one target and records a receipt
(``receipts``); ``pending`` tells which targets are still owed the live snapshot.
"""

from sinks.delivery.deliver import channel_files, deliver, pending
from sinks.delivery.errors import DeliveryError
from sinks.delivery.receipts import DeliveredFile, Receipt, last_receipts, read_receipts

__all__ = [
    "DeliveredFile",
    "DeliveryError",
    "Receipt",
    "channel_files",
    "deliver",
    "last_receipts",
    "pending",
    "read_receipts",
]
