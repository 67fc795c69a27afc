"""Graded exercises: domain checks, feedback, lesson building, batch grading, capstone scoring.

The picture::

    course/source/LESSON.ipynb  --shopsim course build (otter assign)-->  course/lessons/LESSON.ipynb
      (master: text, solutions,                                            (student copy: public checks
       public + hidden tests)                                               in its metadata, progress cell)
            |                                                                         |
            +---- hidden tests ---->  shopsim grade LESSON SUBMISSIONS...  <----------+
                                      (each notebook runs in a bubblewrap sandbox and
                                       writes its answers out as data; the checks run
                                       here, outside it)
                                              |
                                      gradebook (SQLite, history) -> HTML reports, LMS CSV, statistics

Modules:

- :mod:`~shopsim.grading.checks`: the domain checks tests call (numbers, rates, tables, choices).
- :mod:`~shopsim.grading.feedback`: operator-terms messages, KPI definitions, typical mistakes.
- :mod:`~shopsim.grading.reference`: cached reference runs hidden checks compute answers from.
- :mod:`~shopsim.grading.questions`: otter's test-file format, parsed and run.
- :mod:`~shopsim.grading.lesson_progress`: :class:`Grader` (``grader.check("q")`` in a lesson)
  and :func:`progress`, the trainee's summary.
- :mod:`~shopsim.grading.answer_key`: the sealed answer key that lets practice lessons check
  values without the answers in the notebook.
- :mod:`~shopsim.grading.build`: ``shopsim course build [--check]`` (modes, support files).
- :mod:`~shopsim.grading.sandbox`: the bubblewrap sandbox untrusted code runs in.
- :mod:`~shopsim.grading.answers`: answers as data (JSON, Parquet) out of the sandbox.
- :mod:`~shopsim.grading.runner`, :mod:`~shopsim.grading.batch`, :mod:`~shopsim.grading.gradebook`:
  ``shopsim grade``.
- :mod:`~shopsim.grading.report`: per-trainee HTML reports, the LMS CSV, per-question statistics.
- :mod:`~shopsim.grading.capstone`, :mod:`~shopsim.grading.policy_host`: :func:`evaluate_policy`
  for the capstone (the policy sandboxed, the simulation here).
- :mod:`~shopsim.grading.cli`: the ``grade``, ``gradebook`` and ``course`` subcommands.

See ``docs/authoring.md`` for writing a lesson and grading a cohort, and its section "How
grading is protected".
"""

from shopsim.grading import checks, feedback, reference
from shopsim.grading.capstone import evaluate_policy
from shopsim.grading.checks import CheckFailed
from shopsim.grading.lesson_progress import Grader, Progress, progress

__all__ = ["CheckFailed", "Grader", "Progress", "checks", "evaluate_policy", "feedback", "progress", "reference"]
