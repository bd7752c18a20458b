"""Services: incidents, rivers, playbooks, sampling, crews, results, readiness,
drills, reports and the log. No textual here (an import contract checks it)."""
