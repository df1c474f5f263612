"""gRPC plumbing shared by every server and client: error mapping, server bootstrap, stage adapter, channels."""
