"""The named choices of the stage options, in one light module: the stages' engines use them, and the option
checks at the door (services/options.py) read them without importing an engine (the orchestrator's image has
no scipy, torch or MediaPipe)."""

TRACKING_BACKENDS = ("auto", "cpu", "phalp")
KEYPOINTS_BACKENDS = ("auto", "cpu", "opencv-dnn", "openpose")
DATASET_FORMATS = ("humannerf", "neuralbody", "neuralbody_monocular", "easymocap", "instantavatar", "vid2avatar",
                   "bvh", "gltf")
