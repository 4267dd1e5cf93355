# Each module below registers its classes on import.
