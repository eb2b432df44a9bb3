def main(squares: list, ticks: list, size: str, sides: list):
    return {
        "squares": [int(s) for s in squares],
        "ticks": len(ticks),
        "size": size,
        "sides": sides,
    }
