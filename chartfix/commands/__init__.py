"""chartfix.commands"""
