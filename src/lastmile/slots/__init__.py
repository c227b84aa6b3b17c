"""Delivery slots: quote the windows we can honour, enforce their capacity, book orders."""
