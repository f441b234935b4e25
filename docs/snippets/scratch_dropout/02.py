try:
    scratch.Dropout(1.0)
except ValueError as err:
    print(err)
