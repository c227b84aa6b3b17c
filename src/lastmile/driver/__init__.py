"""The driver's day: today's routes, load-out, arrival, proof of delivery and custody scans."""
