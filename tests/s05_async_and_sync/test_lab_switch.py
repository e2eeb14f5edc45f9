"""The lab's two routes that stall the whole server are off unless a setting turns them on, and bounded when on."""

import pytest

from lessons.s05_async_and_sync.settings import Settings

from .conftest import ACME

BLOCKING = ["/lab/io/blocking?seconds=0.01", "/lab/cpu/inline?limit=100"]


def test_the_blocking_routes_are_off_by_default(monkeypatch):
    monkeypatch.delenv("WORKBOOK_LAB_BLOCKING_ROUTES", raising=False)
    assert Settings().lab_blocking_routes is False


@pytest.mark.parametrize("path", BLOCKING)
def test_off_they_answer_404_and_say_how_to_turn_them_on(client, path):
    response = client.get(path, headers=ACME)
    assert response.status_code == 404
    assert "WORKBOOK_LAB_BLOCKING_ROUTES=true" in response.json()["detail"]


@pytest.mark.parametrize("path", BLOCKING)
def test_on_they_answer(lab_client, path):
    assert lab_client.get(path, headers=ACME).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/lab/cpu/inline?limit=2000000",  # 13 to 26 seconds of a stalled server, once allowed
        "/lab/io/blocking?seconds=5",  # 5 seconds, once allowed
    ],
)
def test_on_their_work_is_bounded(lab_client, path):
    assert lab_client.get(path, headers=ACME).status_code == 422


@pytest.mark.parametrize("path", ["/lab/io/def?seconds=0.01", "/lab/cpu/process-pool?limit=100", "/lab/threads"])
def test_the_routes_that_keep_the_loop_free_need_no_switch(client, path):
    assert client.get(path, headers=ACME).status_code == 200
