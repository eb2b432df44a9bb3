def main(what: str, approval=None, approvers: list = []):
    return {"done": what, "approval": approval, "approvers": approvers}
