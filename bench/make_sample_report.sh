#!/usr/bin/env bash
# Builds docs/sample-report.pdf the way a reviewer would, with the CLI only:
#   bash bench/make_sample_report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
CT=.venv/bin/ctreview
$CT phantom $W/parts --part transformer --normal 0 --defective 1 --seed 7
VOL=$W/parts/transformer_defect_000.tif
$CT score $VOL --out $W/run --workspace $W/ws.sqlite
# slices 18-20 hold the planted solder ball and missing copper (labels.json): flagged;
# the two best-ranked slices that hold no defect accepted
mapfile -t OK < <(.venv/bin/python -c "
import csv, json; lab = json.load(open('$W/parts/labels.json'))['transformer_defect_000']['slices']
rows=sorted(csv.DictReader(open('$W/run/scores.csv')), key=lambda r: -float(r['score']))
print('\n'.join([r['slice'] for r in rows if not lab[int(r['slice'])]][:2]))")
$CT decide $VOL --workspace $W/ws.sqlite --slice 19 --status unsure --reviewer "A. Analyst" --note "bright spot at the winding edge?"
$CT decide $VOL --workspace $W/ws.sqlite --slice 19 --status flag --reviewer "B. Reviewer" --note "stray solder ball on the board, 3 slices deep (18-20)"
$CT decide $VOL --workspace $W/ws.sqlite --slice 18 --status flag --reviewer "A. Analyst" --note "missing copper in the winding, next to the solder ball"
$CT decide $VOL --workspace $W/ws.sqlite --slice 20 --status flag --reviewer "A. Analyst" --note "solder ball, upper edge"
$CT decide $VOL --workspace $W/ws.sqlite --slice ${OK[0]} --status accept --reviewer "A. Analyst"
$CT decide $VOL --workspace $W/ws.sqlite --slice ${OK[1]} --status accept --reviewer "A. Analyst"
$CT report $VOL --workspace $W/ws.sqlite --out docs/sample-report.pdf --csv $W/scores.csv --force
