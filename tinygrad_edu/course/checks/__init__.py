"""The checks of every exercise, one module per workbook file (the grader's copy: never the student's)."""
