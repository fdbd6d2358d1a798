"""reference/functions"""
