"""The balance sheet (bilan) and the income statement (compte de résultat) of a fiscal year."""
