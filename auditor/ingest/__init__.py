"""Ingestion: read user files in bounded chunks, convert benchmark formats, load via the store."""
