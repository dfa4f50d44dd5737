"""Grading at submission time: ``cnnkit serve``, one long-running process for a course.

Submissions arrive through the nbgrader exchange or a web page and HTTP API; they wait in a
durable queue in the course's database, are graded by the batch grader's own jobs, runner and
recorder, and their feedback goes back to the student through nbgrader and the student's page.

The modules, one idea each:

- :mod:`.settings`: the service's settings, each with its default and help text.
- :mod:`.tables`: the service's tables, beside the gradebook's.
- :mod:`.policy`: the fair scheduling policy and the limits, as pure functions.
- :mod:`.queue`: the durable queue: accept, replace, claim, finish, and carry on after a crash.
- :mod:`.instances`: which service runs a course (heartbeats), so a new start takes over a dead
  one's claims and refuses to run beside a live one.
- :mod:`.tokens`: personal tokens from a roster (hashes only) and sign-in sessions.
- :mod:`.admission`: what an upload must be before it is queued (the intake's notebook checks,
  deadlines, the attempt limit), and the refusal when it is not.
- :mod:`.accept`: taking a submission from the web or the exchange into the queue.
- :mod:`.deadlines`: due dates from the gradebook, lateness and the cut-off.
- :mod:`.exchange`: the watcher of the nbgrader exchange's inbound folder.
- :mod:`.feedback`: recording a result, nbgrader's feedback and its release.
- :mod:`.worker`: the loop that claims jobs, runs them on local workers or Dask, and records.
- :mod:`.exports`: ``grades.csv`` and ``report.html`` kept current.
- :mod:`.stats`: figures of the instructor's page (queue, median and 95th percentile times).
- :mod:`.ratelimit`: token buckets against floods of requests.
- :mod:`.web`: the web app (Starlette): pages, API, and their security.
- :mod:`.service`: puts them together and runs the server.

The package may import :mod:`autograder.batch` (jobs, executors, runner, recording, exports),
the course modules of :mod:`autograder.authoring` and the student kit's top-level modules;
Starlette and uvicorn only here. Nothing but :mod:`autograder.cli` imports it.
"""
