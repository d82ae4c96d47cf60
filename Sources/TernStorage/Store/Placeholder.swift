import TernSystem
import TernMessage
