"""chartfix.publish.branch"""
