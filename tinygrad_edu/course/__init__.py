"""The course: a workbook of exercises, the checks that tell a student where they stand, two editions.

    manifest     the list of exercises (manifest.toml): id, title, file, reference, number of checks
    workbook     a student's workbook folder, loaded so that each exercise is checked on its own
    checking     how a check is written, and how its outcome becomes a Result (pytest and direct runs)
    feedback     CheckFailed: the numbers, the input, the kind of mistake that picks the hint
    adapters     a student's backward as an engine op (for diagnose, and for the milestone)
    reference/   each exercise's interface computed by the engine (no answer key)
    checks/      the checks, one module per workbook file (the grader's copy)
    mutants      realistic wrong answers that prove the checks (instructor's edition only)

The engine never imports this package; this package imports the engine.
"""
