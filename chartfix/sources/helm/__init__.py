"""chartfix.sources.helm"""
