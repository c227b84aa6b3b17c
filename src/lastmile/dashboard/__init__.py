"""The dispatcher's console ``/dashboard``: HTML shells whose scripts read the JSON API.

See docs/dashboard.md. The pages carry no data and need no login to load; the scripts log in
(token in localStorage) and every API call they make is checked for staff access.
"""
