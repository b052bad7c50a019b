"""Validate a claims file in a child process while this one writes: both cores at work.

Reading and validating a file (CSV parsing, pydantic) and writing it (comparing
with the stored rows, INSERT or COPY) each take about half of an import. A
child forked from this process reads and validates; the batches come back over
a pipe, packed as plain ints and strings, while this process writes the
previous one. The child never touches the database: it inherits this process's
connections, leaves them alone and ends with `os._exit`, which runs no
finalizers. It holds one batch at a time; the pipe blocks it when it is ahead.
"""

from __future__ import annotations

import os
import signal
import traceback
from collections.abc import Generator
from multiprocessing import Pipe
from typing import Any

from domain.claims.rows import pack, unpack
from domain.claims.source import ClaimSource
from domain.claims.validation import Checked, checked_batches
from domain.errors import ValidationFailed

CAN_FORK = hasattr(os, "fork")


def _packed(batch: Checked) -> tuple[Any, ...]:
    return (
        [pack(row) for row in batch.rows],
        batch.errors,
        batch.error_count,
        batch.read,
        batch.bytes_read,
    )


def _unpacked(payload: tuple[Any, ...]) -> Checked:
    rows, errors, error_count, read, bytes_read = payload
    return Checked([unpack(row) for row in rows], errors, error_count, read, bytes_read)


def checked_in_child(
    source: ClaimSource, creditor_ids: set[str], batch_size: int
) -> Generator[Checked, None, None]:
    """Yield the source's validated batches as a forked child reads and checks them."""
    receiver, sender = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the child: validate, send, vanish
        receiver.close()
        code = 0
        try:
            for batch in checked_batches(source, creditor_ids, batch_size):
                sender.send(("batch", _packed(batch)))
            sender.send(("end", None))
        except ValidationFailed as exc:
            sender.send(("refused", (exc.message, exc.errors)))
        except BaseException:
            sender.send(("crashed", traceback.format_exc()))
            code = 1
        finally:
            os._exit(code)
    sender.close()
    source.close()  # the child reads the file from here on
    finished = False
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise RuntimeError("the process validating the claims file died") from None
            if kind == "batch":
                yield _unpacked(payload)
                continue
            finished = True
            if kind == "refused":
                raise ValidationFailed(*payload)
            if kind == "crashed":
                raise RuntimeError(f"validating the claims file failed:\n{payload}")
            return
    finally:
        receiver.close()
        if not finished:  # this process gave up (an error, Ctrl-C): stop the child
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
