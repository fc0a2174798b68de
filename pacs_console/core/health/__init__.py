"""Site health checks: one repeatable plan per site, run in parallel, compared with the last run.

- ``model``: CheckResult / HealthRun, the plain data every caller reads (CLI JSON, GUI grid,
  reports) and the exit code rule.
- ``plan``: the check plan made from a site's address book (defaults per node role) or a plan
  file, validated and bounded.
- ``checks``: one function per check kind (route, echo, association, tls, find, worklist,
  dicomweb, hl7, store); each turns any failure into a FAIL with the console's diagnosis, never
  an exception.
- ``compare``: what got worse since the last run at the same site.
- ``runner``: the generator that runs a plan with a concurrency bound, yields progress, stops
  when asked, saves the run as evidence.
- ``baseline``: upgrade validation, a named snapshot before and the same compared after.
- ``archive``: archive integrity spot-checks; ``dr``: primary vs disaster-recovery copy.
- ``contexts``: the presentation contexts a node accepts and what changed in them.
- ``cleanup``: removing (or listing) the test studies the C-STORE check left at a site.
- ``fetch``: how a study is brought in (C-GET, or C-MOVE to a private Storage SCP).
- ``pixels``: the integrity read of a received file (native pixel data without pydicom).

May import core.dicom (operations), core.dicomweb, core.hl7, core.db and core.errors; never Qt.
"""
