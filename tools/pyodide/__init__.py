"""Running dosim in Pyodide: the test run in Node.js and the wheel it installs."""
