"""Request ids: random, read ahead from the OS in blocks, never shared with a forked child."""

import os
import re

import pytest

from {{ cookiecutter.package_name }}.core import request_ids
from {{ cookiecutter.package_name }}.core.request_ids import (
    IDS_PER_SYSTEM_CALL,
    new_request_id,
)

HEX_128_BITS = re.compile(r"[0-9a-f]{32}")


def test_ids_are_unique_128_bit_hex_across_several_blocks() -> None:
    ids = [new_request_id() for _ in range(3 * IDS_PER_SYSTEM_CALL + 1)]

    assert all(HEX_128_BITS.fullmatch(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_does_not_reuse_the_ids_read_ahead() -> None:
    request_ids._spare_ids.clear()  # the next id starts a new block, whatever came before
    new_request_id()  # leaves the rest of the block read ahead in this process
    assert len(request_ids._spare_ids) == IDS_PER_SYSTEM_CALL - 1

    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if nothing was inherited
        os._exit(0 if not request_ids._spare_ids else 1)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
