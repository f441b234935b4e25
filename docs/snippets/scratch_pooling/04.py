try:
    scratch.MaxPool2d(3, padding=2)
except ValueError as err:
    print(err)
