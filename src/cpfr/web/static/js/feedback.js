// Showing outcomes: the server's error message (and a 422's problems, row by row), or a success.

import { el, notice, table } from "./dom.js";

/** A table of a refused input's problems: file, row, column, value, expected. */
export function problemsTable(problems) {
  return table([
    { label: "File", value: (problem) => String(problem.file ?? "").split(/[\\/]/).pop() },
    { label: "Row", value: (problem) => (problem.row ?? "") === 0 ? "–" : String(problem.row ?? ""), num: true },
    { label: "Column", value: (problem) => problem.column ?? "" },
    { label: "Value", value: (problem) => (problem.value === null || problem.value === undefined ? "(empty)" : String(problem.value)) },
    { label: "Expected", value: (problem) => problem.expected ?? "" },
  ], problems, { empty: "" });
}

/** Show an error in `place`: the server's message, and its problems if it listed any. */
export function showError(place, error) {
  const problems = error && error.problems ? error.problems : [];
  const more = problems.length && error.total > problems.length
    ? el("p", {}, `Showing ${problems.length} of ${error.total} problems.`) : null;
  return notice(place, "error",
    el("strong", {}, error && error.status ? `Error ${error.status}: ` : "Error: "),
    error && error.message ? error.message : String(error),
    problems.length ? problemsTable(problems) : null, more);
}

export function showOk(place, ...message) {
  return notice(place, "ok", ...message);
}

/** Run `work`; on failure show the error in `place` (and return undefined). */
export async function guard(place, work) {
  try {
    return await work();
  } catch (error) {
    showError(place, error);
    return undefined;
  }
}
