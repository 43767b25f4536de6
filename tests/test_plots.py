"""`dvc plots show` draws every declared plot offline, checked in a real headless Chromium."""

import os
import re
import shutil
import subprocess

import pytest
from conftest import dvc

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium")
# As a person on this offline machine would start it: no sandbox as root, and none
# of the background connections that a closed network refuses.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=20000"]


@pytest.fixture(scope="module")
def page(repo, first_run, tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing; .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    out = tmp_path_factory.mktemp("plots")
    dvc(repo, "plots", "show", "-o", str(out))
    return out / "index.html"


def chromium(page, tmp_path, *args):
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_page_needs_nothing_from_the_network(page):
    html = page.read_text(encoding="utf-8")
    assert not re.findall(r"<script[^>]+src=", html)
    assert "vegaEmbed" in html


def test_chromium_draws_curves_confusion_matrix_and_f1_image(page, tmp_path):
    dom = chromium(page, tmp_path, "--dump-dom")
    # Vega has drawn each chart: one root frame per chart, with its marks.
    assert dom.count('class="mark-group role-frame root"') == 4
    curves = ("Loss per epoch", "Accuracy per epoch", "Held-out fold macro F1 per epoch")
    assert all(f"{title} (fold 1, the BiLSTM alone)" in dom for title in curves)  # not the saved model
    assert "Test confusion matrix" in dom
    assert len(re.findall(r'class="mark-line role-mark', dom)) >= 4  # train and eval, loss and accuracy
    assert re.search(r'<img[^>]+per_genre_f1\.png', dom) and re.search(r'<img[^>]+reliability\.png', dom)
    assert (page.parent / "static").is_dir() and any((page.parent / "static").glob("*per_genre_f1.png"))


def test_screenshot_is_not_blank(page, tmp_path):
    from matplotlib import image

    shot = tmp_path / "plots.png"
    chromium(page, tmp_path, "--window-size=1300,2600", f"--screenshot={shot}")
    pixels = image.imread(shot)[..., :3]
    drawn = (pixels < 0.9).any(axis=-1).mean()
    assert drawn > 0.02  # lines, heat map and bars, not a white page


def test_plots_show_works_before_make_writes_the_offline_page(repo, first_run, tmp_path):
    """A fresh clone has no .dvc/config.local: DVC's own page (Vega from a CDN) is used, no error."""
    local = repo / ".dvc/config.local"
    saved = local.read_text()
    local.unlink()
    try:
        dvc(repo, "plots", "show", "-o", str(tmp_path / "plots"))
    finally:
        local.write_text(saved)
    html = (tmp_path / "plots/index.html").read_text(encoding="utf-8")
    assert "Loss per epoch" in html and re.search(r"<script[^>]+src=", html)
