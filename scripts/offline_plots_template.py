"""Write the HTML template `dvc plots show` uses here: Vega inlined, no CDN.

DVC's own page loads Vega, Vega-Lite and Vega-Embed from a CDN, so on a machine
without the internet its charts stay blank.  vl-convert ships those libraries in
its wheel; this puts them inside the page.  `make` writes it and points
`plots.html_template` at it in .dvc/config.local (not in git).

    python scripts/offline_plots_template.py .dvc/offline-plots.html
"""

import sys
from pathlib import Path

import vl_convert

VEGA_LITE = "v5.21"  # DVC's plot specs are Vega-Lite 5

PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <title>DVC plots</title>
    <meta charset="utf-8">
    <script>
@BUNDLE@
    </script>
    <style>
        body { font-family: sans-serif; }
        table { border-spacing: 15px; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def template() -> str:
    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE)
    # Inline, the bundle must not close its <script> early or look like DVC's placeholders.
    bundle = bundle.replace("</script", "<\\/script")
    assert not any(p in bundle for p in ("{plot_divs}", "{refresh_tag}", "{scripts}"))
    return PAGE.replace("@BUNDLE@", bundle)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.write_text(template(), encoding="utf-8")
    print(f"wrote {target} ({target.stat().st_size // 1024} KiB)")
