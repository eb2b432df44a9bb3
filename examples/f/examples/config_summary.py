import wmill


def main(prefix_variable: str = "f/examples/greeting_prefix"):
    prefix = wmill.get_variable(prefix_variable)
    db = wmill.get_resource("f/examples/db")
    return {"prefix": prefix, "database": f"{db['user']}@{db['host']}:{db['port']}/{db['dbname']}"}
