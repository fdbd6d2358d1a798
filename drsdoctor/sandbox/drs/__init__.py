"""sandbox/drs"""
