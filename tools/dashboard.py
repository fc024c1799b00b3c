"""`make dashboard`: the inventory's CloudWatch dashboard, drawn as text from its own data.

    make dashboard                                # the last 3 hours, the local inventory
    python tools/dashboard.py --hours 24 --inventory inventories/aws-example

Reads the dashboard site.yml put (``GetDashboard``), and for each of its widgets the data
CloudWatch holds (``GetMetricData`` for a metric widget, with the widget's own statistic
and period; ``DescribeAlarms`` for an alarm widget), and prints each widget as a title and
a line per metric: a sparkline over the window, its sum and its latest value, and the
widget's horizontal annotations. What the console would draw, without a browser: the
README's picture of the dashboard is this command's output after `make demo`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

from target import client_factory, defaults_of, inventory

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float]) -> str:
    if not values:
        return "(no data)"
    top = max(values) or 1.0
    return "".join(BARS[min(len(BARS) - 1, int(v / top * (len(BARS) - 1)))] if v else "·" for v in values)


def queries(widget: dict) -> list[tuple[str, dict]]:
    """(label, MetricDataQuery) for each metric of a metric widget."""
    props = widget.get("properties") or {}
    out = []
    for index, row in enumerate(props.get("metrics") or []):
        options = row[-1] if row and isinstance(row[-1], dict) else {}
        names = [part for part in row if not isinstance(part, dict)]
        namespace, metric, pairs = names[0], names[1], names[2:]
        dimensions = [{"Name": pairs[i], "Value": pairs[i + 1]} for i in range(0, len(pairs) - 1, 2)]
        stat = options.get("stat") or props.get("stat") or "Average"
        period = int(options.get("period") or props.get("period") or 300)
        query = {
            "Id": f"m{index}",
            "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dimensions},
                "Period": period,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        out.append((f"{metric} ({stat})", query))
    return out


def draw(widget: dict, cloudwatch, start: dt.datetime, end: dt.datetime, buckets: int) -> list[str]:
    props = widget.get("properties") or {}
    lines = [f"[{props.get('title', widget.get('type'))}]"]
    if widget.get("type") == "alarm":
        names = [arn.rsplit(":alarm:", 1)[-1] for arn in props.get("alarms") or []]
        alarms = cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"] if names else []
        states = {a["AlarmName"]: a["StateValue"] for a in alarms}
        lines += [f"  {states.get(name, 'MISSING'):<17} {name}" for name in names]
        return lines
    pairs = queries(widget)
    if not pairs:
        return lines
    answer = cloudwatch.get_metric_data(MetricDataQueries=[q for _, q in pairs], StartTime=start, EndTime=end)
    results = {r["Id"]: r for r in answer["MetricDataResults"]}
    width = (end - start).total_seconds() / buckets
    for label, query in pairs:
        result = results.get(query["Id"]) or {}
        series = [0.0] * buckets
        for stamp, value in zip(result.get("Timestamps") or [], result.get("Values") or [], strict=True):
            slot = min(buckets - 1, max(0, int((stamp - start).total_seconds() // width)))
            series[slot] = max(series[slot], value) if "Maximum" in label else series[slot] + value
        values = result.get("Values") or []
        latest = f"{values[0]:g}" if values else "-"
        shown = sparkline(series) if values else "(no data)"
        lines.append(f"  {label:<46} {shown}  sum {sum(values):g}  latest {latest}")
    for note in (props.get("annotations") or {}).get("horizontal") or []:
        lines.append(f"  line: {note.get('label')} at {note.get('value')}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=os.environ.get("INVENTORY", "inventories/local"))
    parser.add_argument("--hours", type=float, default=float(os.environ.get("HOURS", "3")))
    parser.add_argument("--buckets", type=int, default=36, help="characters per sparkline")
    args = parser.parse_args(argv)
    variables = inventory(args.inventory)
    name = variables.get("dr_dashboard_name") or defaults_of("dr_dashboard")["dr_dashboard_name"]
    cloudwatch = client_factory(variables, "auditor")("cloudwatch")
    try:
        body = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
    except cloudwatch.exceptions.ResourceNotFound:
        print(f"dashboard: {name} does not exist (site.yml puts it)", file=sys.stderr)
        return 1
    end = dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(hours=args.hours)
    print(f"Dashboard {name}: {start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC, {len(body.get('widgets', []))} widgets")
    widgets = sorted(body.get("widgets") or [], key=lambda w: (w.get("y", 0), w.get("x", 0)))
    for widget in widgets:
        print("\n".join(draw(widget, cloudwatch, start, end, args.buckets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
