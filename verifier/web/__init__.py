"""The bank counter web page: templates and static files (package data), and the
bilingual display document the page renders (:mod:`verifier.web.display`)."""
