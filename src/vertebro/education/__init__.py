"""Patient education (cited Markdown pages, a word list) and personal documents (HTML and PDF).

- :mod:`~vertebro.education.content`: pages with front matter, numbered citations, glossary links;
- :mod:`~vertebro.education.handouts`: the preparation handout and the discharge sheet, from an assessment;
- :mod:`~vertebro.education.report`: the radiologist's structured procedure report;
- :mod:`~vertebro.education.documents`: a stored patient's documents (audited read, fresh assessment);
- :mod:`~vertebro.education.render` and :mod:`~vertebro.education.pdf`: Jinja2 HTML and WeasyPrint PDF.
"""
