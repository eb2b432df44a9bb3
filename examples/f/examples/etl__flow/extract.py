def main(n: int = 3):
    return [{"id": i, "value": i * i} for i in range(1, n + 1)]
