"""The two reliability campaigns run end to end with tiny budgets and write their section of
docs/RELIABILITY.md (into a copy): the kill -9 campaign must find every checkpoint identical
to the uninterrupted run's, the fuzz campaign must report every property."""
import re
from pathlib import Path

import pytest

from tests.helpers import load_script

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow]


def test_kill_campaign_resumes_bit_for_bit(tmp_path):
    doc = tmp_path / "RELIABILITY.md"
    doc.write_text("# Reliability\n\n## Kill -9 campaign\n\nstale\n\n## Other\n\nkept\n")
    kill = load_script("kill_campaign", "reliability")
    rc = kill.main(["--kills", "2", "--epochs", "4", "--images", "1024", "--out", str(doc)])
    text = doc.read_text()
    assert rc == 0, text
    assert "stale" not in text and "## Other\n\nkept" in text
    kills = int(re.search(r"\| kills \| (\d+) \|", text).group(1))
    assert 1 <= kills <= 2 and "| final state | completed |" in text
    assert "| checkpoints that failed to load after a kill | 0 |" in text
    assert "| epochs whose checkpoint equals the uninterrupted run's bit for bit | 4 / 4 |" in text


def test_fuzz_campaign_reports_each_property(tmp_path):
    doc = tmp_path / "RELIABILITY.md"
    doc.write_text("# Reliability\n")
    fuzz = load_script("fuzz_campaign", "reliability")
    rc = fuzz.main(["--examples", "3", "-k", "config_ or readers", "--out", str(doc)])
    text = doc.read_text()
    assert rc == 0, text
    assert "## Fuzz campaign" in text and "3 of 3 held" in text
    assert "`test_config_from_dict_is_a_valid_config_or_a_config_error` | 3 |" in text
