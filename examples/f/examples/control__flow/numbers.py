def main(n: int = 3):
    return list(range(1, n + 1))
