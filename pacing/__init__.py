"""Pure pacing algorithms: numbers in, decisions out. No I/O, no asyncio, no clock."""
