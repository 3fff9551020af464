"""``python -m pirsch_middleware fake-api`` answers statistics too: a reader without a Pirsch
account can try the ``stats`` command against it, with any OAuth client, as it says."""

from __future__ import annotations

import os
import subprocess
import sys

from .test_demo import fake_api_command


def test_stats_command_reads_the_fake_api_command_with_any_client() -> None:
    with fake_api_command() as (_, base, lines):
        assert "PIRSCH_CLIENT_ID=fake PIRSCH_CLIENT_SECRET=fake" in lines[4]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIRSCH_")}
        stats = subprocess.run(
            [sys.executable, "-m", "pirsch_middleware", "stats", "domains"],
            env={
                **env,
                "PIRSCH_BASE_URL": base,
                "PIRSCH_CLIENT_ID": "fake",
                "PIRSCH_CLIENT_SECRET": "fake",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert stats.returncode == 0, stats.stderr
    assert "A5kgYzK14m" in stats.stdout  # the API document's example domain
    assert "example.com" in stats.stdout
