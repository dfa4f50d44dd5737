"""The class report's page: its Jinja2 template and its CSS, kept as strings so that the installed
kit carries them without package data.

The template is rendered by :mod:`autograder.batch.class_report` in an environment with autoescape
on and :func:`autograder.batch.sanitize.for_html` as ``finalize``: every ``{{ value }}`` is
HTML-escaped with its control characters shown, unless it is :class:`~markupsafe.Markup` (the
plots' SVG, made by matplotlib). Its sections follow the questions an instructor asks after a run.
"""

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 70rem; padding: 0 1rem; color: #1b1b1b; line-height: 1.4; }
h1 { margin-bottom: .5rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
dl.counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr));
            gap: .5rem; margin: 1rem 0; }
dl.counts div { background: #f4f6f8; border-radius: 6px; padding: .5rem .75rem; }
dl.counts dt { font-size: .8rem; color: #555; }
dl.counts dd { margin: 0; font-size: 1.3rem; white-space: nowrap; }
dl.counts .alert dd { color: #b00020; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border-bottom: 1px solid #e2e2e2; padding: .3rem .7rem; text-align: left;
         vertical-align: top; }
th { background: #f4f6f8; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.reason { white-space: pre-wrap; max-width: 40rem; overflow-wrap: anywhere; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9rem; }
p.none { color: #555; }
"""

#: The page. ``figure`` draws one plot with its caption; the rest reads top to bottom.
PAGE = """\
{%- macro figure(plot) -%}
<figure id="{{ plot.id }}">
{{ plot.svg }}
<figcaption>{{ plot.label }}. {{ plot.caption }}</figcaption>
</figure>
{%- endmacro -%}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
<h1>{{ title }}</h1>
<dl class="counts">
{% for count in counts %}
<div{% if count.alert %} class="alert"{% endif %} data-count="{{ count.key }}"><dt>{{ count.name }}</dt><dd>{{ count.value }}</dd></div>
{% endfor %}
</dl>
<h2>Scores per assignment</h2>
{% if assignments %}
<table id="assignments">
<thead><tr>{% for head in assignment_columns %}<th>{{ head }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in assignments %}
<tr data-assignment="{{ row.id }}"><td>{{ row.id }}</td><td>{{ row.title }}</td>{% for value in row.numbers %}<td class="num">{{ value }}</td>{% endfor %}</tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p class="none">No submissions.</p>
{% endif %}
{{ figure(plots.scores) }}
<h2>Pass rate per test</h2>
{{ figure(plots.pass_rate) }}
<h2>Grading time</h2>
{{ figure(plots.time) }}
<h2>Failed submissions</h2>
{% if failed %}
<table id="failed">
<thead><tr><th>Student</th><th>Assignment</th><th>Reason</th><th>Worker</th></tr></thead>
<tbody>
{% for o in failed %}
<tr><td>{{ o.student }}</td><td>{{ o.assignment }}</td><td class="reason">{{ o.reason or "(no reason recorded)" }}</td><td>{{ o.worker }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p class="none" id="failed-none">No submission failed.</p>
{% endif %}
<h2>Submissions needing attention</h2>
{% if attention %}
<table id="attention">
<thead><tr><th>Student</th><th>Assignment</th><th>Score</th><th>What to do</th></tr></thead>
<tbody>
{% for row in attention %}
<tr><td>{{ row.student }}</td><td>{{ row.assignment }}</td><td class="num">{{ row.score }}</td><td class="reason">{{ row.what }}</td></tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p class="none" id="attention-none">No submission needs a person.</p>
{% endif %}
</body>
</html>
"""
