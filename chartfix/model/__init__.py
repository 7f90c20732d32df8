"""chartfix.model"""
